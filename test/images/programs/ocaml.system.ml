let () =
  let line = try input_line stdin with End_of_file -> "" in
  if line <> "" then exit (if Sys.command line = 0 then 0 else 1)
