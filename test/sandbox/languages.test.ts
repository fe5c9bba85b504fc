import { describe, expect, it } from "vitest";
import { job, run } from "../helpers/sandbox.js";

/** Hello world and a stdin echo in every language of the host image. */
const programs: Record<string, { file: string; hello: string; echo: string }> = {
  python: {
    file: "main.py",
    hello: 'print("Hello, world!")',
    echo: "import sys\nsys.stdout.write(sys.stdin.read())",
  },
  javascript: {
    file: "main.js",
    hello: 'console.log("Hello, world!");',
    echo: 'process.stdin.pipe(process.stdout);',
  },
  c: {
    file: "main.c",
    hello: '#include <stdio.h>\nint main(void) { puts("Hello, world!"); return 0; }',
    echo: '#include <stdio.h>\nint main(void) { int c; while ((c = getchar()) != EOF) putchar(c); return 0; }',
  },
  cpp: {
    file: "main.cpp",
    hello: '#include <iostream>\nint main() { std::cout << "Hello, world!" << std::endl; }',
    echo: '#include <iostream>\nint main() { std::cout << std::cin.rdbuf(); }',
  },
  java: {
    file: "Main.java",
    hello: 'public class Main { public static void main(String[] args) { System.out.println("Hello, world!"); } }',
    echo: "public class Main { public static void main(String[] args) throws Exception { System.in.transferTo(System.out); } }",
  },
  bash: {
    file: "main.sh",
    hello: 'echo "Hello, world!"',
    echo: "cat",
  },
};

const compiled = new Set(["c", "cpp", "java"]);

describe.each(Object.entries(programs))("%s", (language, program) => {
  it("prints hello world (default limits: 256 MB)", async () => {
    const result = await run(job(language, program.file, program.hello));
    expect(result.run?.stderr).toBe("");
    expect(result).toMatchObject({ status: "completed", verdict: "accepted", language, run: { status: "ok", exitCode: 0, signal: null, stdout: "Hello, world!\n" } });
    expect(result.compile === null).toBe(!compiled.has(language));
    if (compiled.has(language)) expect(result.compile).toMatchObject({ status: "ok", exitCode: 0 });
    expect(result.run?.memoryKb).toBeGreaterThan(0);
  });

  it("echoes stdin", async () => {
    const stdin = "line one\nline two ünïcode\n";
    const result = await run(job(language, program.file, program.echo, { stdin }));
    expect(result).toMatchObject({ verdict: "accepted", run: { status: "ok", exitCode: 0, stdout: stdin } });
  });
});

describe("judge mode", () => {
  it("compiles once and judges each test with the checker", async () => {
    const result = await run(
      job("c", "main.c", '#include <stdio.h>\nint main(void) { long a, b; scanf("%ld %ld", &a, &b); printf("%ld  \\n", a + b); return 0; }', {
        tests: [
          { name: "small", stdin: "1 2\n", expectedOutput: "3\n" },
          { name: "wrong", stdin: "2 2\n", expectedOutput: "5\n" },
        ],
        checker: { kind: "lines" },
      }),
    );
    expect(result.verdict).toBe("wrong_answer");
    expect(result.run).toBeNull();
    expect(result.tests?.map((test) => [test.name, test.verdict, test.stdout])).toEqual([
      ["small", "accepted", "3  \n"],
      ["wrong", "wrong_answer", "4  \n"],
    ]);
  });
});

describe("java under a 256 MB memory limit", () => {
  it("compiles and runs a program that fills 96 MB of heap", async () => {
    const program = [
      "public class Main {",
      "  public static void main(String[] args) {",
      "    byte[][] blocks = new byte[96][];",
      "    for (int i = 0; i < blocks.length; i++) { blocks[i] = new byte[1 << 20]; java.util.Arrays.fill(blocks[i], (byte) i); }",
      "    long sum = 0; for (byte[] b : blocks) sum += b[b.length - 1];",
      "    System.out.println(sum);",
      "  }",
      "}",
    ].join("\n");
    const result = await run(job("java", "Main.java", program, { limits: { memoryMb: 256 } }));
    expect(result).toMatchObject({ verdict: "accepted", compile: { status: "ok" }, run: { status: "ok", exitCode: 0, stdout: "4560\n" } });
  });
});
