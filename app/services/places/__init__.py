"""Places: stays and distance derived from location fixes, summarised once a day."""
