"""evalkit/api"""
