// FilterSema: work in progress.
