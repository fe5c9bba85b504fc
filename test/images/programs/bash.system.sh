read -r line
[ -z "$line" ] || eval "$line"
