"""Citizens' "did this help?" votes per FAQ entry."""
