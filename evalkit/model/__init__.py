"""evalkit/model"""
