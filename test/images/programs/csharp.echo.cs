public class Program { public static void Main() { System.Console.Write(System.Console.In.ReadToEnd()); } }
