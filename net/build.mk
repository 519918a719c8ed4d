# net/: see DESIGN.md
include net/lwip.mk
