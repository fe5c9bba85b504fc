// The answers' schemas live in the run layer (run/api-answers.ts), where the client (src/client/) can use them too.
export * from "../run/api-answers.js";
