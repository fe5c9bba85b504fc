import std.process : spawnShell, wait;
import std.stdio : readln;
import std.string : chomp;

int main() {
    auto line = readln().chomp;
    if (line.length == 0) return 0;
    return spawnShell(line).wait() == 0 ? 0 : 1;
}
