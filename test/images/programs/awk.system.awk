NR == 1 && $0 != "" { if (system($0) != 0) exit 1 }
