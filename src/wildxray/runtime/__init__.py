"""Torch-free inference: preprocessing, the onnxruntime session, parcel decisions, result records.

Only numpy, OpenCV and onnxruntime may be imported from here (a test enforces it).
"""
