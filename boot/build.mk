# boot/: see DESIGN.md
firmware:
