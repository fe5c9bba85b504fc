lines <- readLines(file("stdin"))
cat(paste0(lines, "\n"), sep = "")
