/**
 * What things cost in blocks on the real interpreter, for code loaded from Storage as
 * a bundle is (the figures behind docs/compiler.md's transformers):
 *   node --import tsx test/bench/block-costs.ts
 * Each line: a file of 100 functions (0, 1 or 3 parameters; short or long body) or
 * 100 retained module-level numbers, and the blocks it holds once evaluated.
 * On 2v29: ~5 blocks per function plus 1 per parameter, whatever the body's length.
 */
import { Interpreter } from "../../host-tools/espruino/interpreter.ts";
const it = await Interpreter.start();
async function cost(name: string, src: string) {
  await it.writeFileFromHost(name, src);
  const a = await it.eval<number>("process.memory().usage");
  await it.eval('eval(require("Storage").read("' + name + '"))', 20000);
  const b = await it.eval<number>("process.memory().usage");
  console.log(name, b - a);
}
try {
  const fns = (n: number, body: string) => Array.from({ length: n }, (_, i) => `function f${i}(a,b){${body}}`).join("");
  const fz = (n: number, params: string, body: string) => Array.from({ length: n }, (_, i) => `function f${i}(${params}){${body}}`).join("");
  await cost("p0.js", `var w1=function(){${fz(100, "", "return 1")}return{f0:f0}}();`);
  await cost("p1.js", `var w2=function(){${fz(100, "a", "return a")}return{f0:f0}}();`);
  await cost("p3.js", `var w3=function(){${fz(100, "a,b,c", "return a")}return{f0:f0}}();`);
  await cost("p0long.js", `var w4=function(){${fz(100, "", "var x=1;for(var i=0;i<10;i++)x+=i;if(x>3)x--;else x++;return x*2+1-x/7")}return{f0:f0}}();`);
  await cost("c100.js", `var w5=function(){${Array.from({ length: 100 }, (_, i) => `var k${i}=${i * 1000};`).join("")}function g(){return k1};return{g:g}}();`);
} finally { await it.stop(); }
