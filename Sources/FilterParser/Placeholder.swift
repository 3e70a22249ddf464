// FilterParser: work in progress.
