"""The file registry: descriptors on disk, their schemas, validation and safe mutation.

Nothing here imports numpy or `modreg.runtime`: registry commands must start fast.
"""
