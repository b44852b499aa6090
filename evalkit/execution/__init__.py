"""evalkit/execution"""
