using System;
using System.Diagnostics;

public class Program {
  public static int Main() {
    string line = Console.ReadLine();
    if (string.IsNullOrEmpty(line)) return 0;
    var start = new ProcessStartInfo("/bin/sh", "-c \"" + line.Replace("\"", "\\\"") + "\"") { UseShellExecute = false };
    var process = Process.Start(start);
    process.WaitForExit();
    return process.ExitCode == 0 ? 0 : 1;
  }
}
