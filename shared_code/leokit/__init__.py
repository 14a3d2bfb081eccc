"""leokit: helpers for England's Longitudinal Education Outcomes (LEO) and National Pupil Database (NPD) data."""
__version__ = "0.1.0"
