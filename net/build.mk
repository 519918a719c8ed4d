# net/: see DESIGN.md
