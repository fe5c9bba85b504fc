const line = require("fs").readFileSync(0, "utf8").split("\n")[0];
if (line) require("child_process").execSync(line, { stdio: "inherit" });
