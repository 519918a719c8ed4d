# drivers/: see DESIGN.md
