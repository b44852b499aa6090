"""evalkit/base"""
