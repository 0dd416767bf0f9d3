"""The catalog service: Education institutions, their users and locations, programmes, study groups, the public
catalogue. (started by the foundation; its own issue fills it).
"""
