"""Views, one module per area. Views stay thin: access helper → form/selector → template."""
