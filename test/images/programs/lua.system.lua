local line = io.read("l")
if line and line ~= "" then os.exit(os.execute(line) and 0 or 1) end
