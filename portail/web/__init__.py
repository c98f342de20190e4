"""Flask glue shared by every blueprint: per-app services, security headers, layout, health."""
