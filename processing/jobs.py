"""Imports every module that registers job handlers with processing.runner.register."""
