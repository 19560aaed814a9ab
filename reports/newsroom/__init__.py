"""What helps editors and reviewers: citing, drafting, the dashboard panels and the review aids."""
