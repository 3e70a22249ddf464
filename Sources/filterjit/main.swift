print("filterjit: work in progress")
