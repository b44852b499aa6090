"""evalkit/storage"""
