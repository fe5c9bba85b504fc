line <- readLines(file("stdin"), n = 1)
if (length(line) == 1 && nzchar(line)) quit(status = if (system(line) == 0) 0 else 1)
