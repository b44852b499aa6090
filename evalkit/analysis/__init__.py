"""evalkit/analysis"""
