"""The Qt Widgets front end."""
