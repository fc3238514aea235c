"""Multi-site deployments: township halls and village points side by side."""
