"""evalkit/grading"""
