while IFS= read -r line || [ -n "$line" ]; do printf "%s\n" "$line"; done
