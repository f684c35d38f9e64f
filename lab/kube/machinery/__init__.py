"""Object model helpers shared by every component (like apimachinery)."""
