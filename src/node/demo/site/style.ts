/**
 * The intranet site's one stylesheet (served as /style.css): system fonts, light and dark
 * schemes, no external resources.
 */
export const STYLE_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --fg: #1d2330; --muted: #5b6475; --card: #ffffff; --line: #dfe3ea;
  --accent: #8a1c2b; --accent-soft: #f6e7e9; --ok: #1d7a46; --code: #eef1f5;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #12151b; --fg: #e4e8ef; --muted: #9aa3b2; --card: #1a1f27; --line: #2c3340;
    --accent: #ff7b8a; --accent-soft: #3a2027; --ok: #5fd08f; --code: #222833;
  }
}
* { box-sizing: border-box; }
html { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
body { margin: 0; }
a { color: var(--accent); }
header.top { background: var(--card); border-bottom: 1px solid var(--line); }
header.top .bar { max-width: 60rem; margin: 0 auto; padding: .6rem 1.2rem; display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
header.top .brand { display: flex; gap: .6rem; align-items: center; font-weight: 650; color: var(--fg); text-decoration: none; }
header.top .brand img { width: 2rem; height: 2rem; }
nav { display: flex; gap: .2rem; flex-wrap: wrap; }
nav a { padding: .3rem .65rem; border-radius: .4rem; text-decoration: none; color: var(--muted); }
nav a:hover { background: var(--code); color: var(--fg); }
nav a[aria-current="page"] { background: var(--accent-soft); color: var(--accent); font-weight: 600; }
main { max-width: 60rem; margin: 0 auto; padding: 1.2rem; }
h1 { font-size: 1.8rem; line-height: 1.2; margin: .6rem 0 .4rem; }
h2 { font-size: 1.25rem; margin: 1.8rem 0 .6rem; }
p.lead { font-size: 1.1rem; color: var(--muted); margin-top: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(15rem, 1fr)); gap: .9rem; margin: 1rem 0; }
.cards.two { grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: .7rem; padding: .9rem 1.1rem; }
.card h3 { margin: 0 0 .3rem; font-size: 1.05rem; }
.card p { margin: .2rem 0; color: var(--muted); }
a.card { text-decoration: none; color: inherit; display: block; }
a.card:hover { border-color: var(--accent); }
code, kbd, .mono { font-family: var(--mono); font-size: .9em; }
code { background: var(--code); padding: .05rem .3rem; border-radius: .25rem; overflow-wrap: anywhere; }
pre { background: var(--code); padding: .8rem 1rem; border-radius: .5rem; overflow-x: auto; font-size: .88rem; }
table.facts { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); border-radius: .6rem; overflow: hidden; }
table.facts th, table.facts td { text-align: left; padding: .45rem .8rem; border-bottom: 1px solid var(--line); vertical-align: top; }
table.facts th { width: 34%; font-weight: 600; color: var(--muted); }
table.facts tr:last-child th, table.facts tr:last-child td { border-bottom: 0; }
table.facts td small { color: var(--muted); display: block; }
.note { border-left: 4px solid var(--accent); background: var(--accent-soft); padding: .6rem 1rem; border-radius: 0 .5rem .5rem 0; }
.ok { color: var(--ok); font-weight: 600; }
ol.path { list-style: none; padding: 0; counter-reset: hop; }
ol.path li { counter-increment: hop; background: var(--card); border: 1px solid var(--line); border-radius: .6rem; padding: .7rem 1rem .7rem 3.2rem; margin: .5rem 0; position: relative; }
ol.path li::before { content: counter(hop); position: absolute; left: .9rem; top: .7rem; width: 1.6rem; height: 1.6rem; border-radius: 50%; background: var(--accent); color: var(--card); font-weight: 700; text-align: center; line-height: 1.6rem; font-size: .85rem; }
ol.path li b { display: block; }
figure.diagram { margin: 1rem 0; background: var(--card); border: 1px solid var(--line); border-radius: .7rem; padding: .8rem; }
figure.diagram svg { width: 100%; height: auto; display: block; }
figure.diagram figcaption { color: var(--muted); font-size: .9rem; margin-top: .4rem; }
form.stack { display: grid; gap: .6rem; max-width: 32rem; background: var(--card); border: 1px solid var(--line); border-radius: .7rem; padding: 1rem; }
label { font-weight: 600; font-size: .95rem; }
input[type=text], textarea, input[type=file] { font: inherit; padding: .45rem .6rem; border: 1px solid var(--line); border-radius: .4rem; background: var(--bg); color: var(--fg); width: 100%; }
button { font: inherit; font-weight: 600; padding: .5rem 1rem; border-radius: .45rem; border: 0; background: var(--accent); color: var(--card); cursor: pointer; justify-self: start; }
ul.entries { list-style: none; padding: 0; }
ul.entries li { background: var(--card); border: 1px solid var(--line); border-radius: .6rem; padding: .6rem 1rem; margin: .5rem 0; }
ul.entries li .meta { color: var(--muted); font-size: .85rem; }
footer { max-width: 60rem; margin: 2rem auto; padding: 0 1.2rem; color: var(--muted); font-size: .85rem; }
`;
