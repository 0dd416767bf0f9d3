"""The calls service: Calls to education institutions, their offers, and the evaluation of offers. (started by
the foundation; its own issue fills it).
"""
