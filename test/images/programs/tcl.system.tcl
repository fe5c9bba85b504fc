if {[gets stdin line] > 0} {
    if {[catch {exec /bin/sh -c $line >@ stdout 2>@ stderr}]} { exit 1 }
}
