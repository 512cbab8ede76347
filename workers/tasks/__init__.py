"""Task modules, one per area; each task is thin: call fluxa, report, let the base classify."""
