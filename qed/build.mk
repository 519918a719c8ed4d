# qed/: see DESIGN.md
