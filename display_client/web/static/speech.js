// What the hall screen says for a call sentence, whichever voice says it.
// The twin of spoken_call in display_client/tts.py (a test keeps them identical):
// the ticket number is read letter by letter and digit by digit, and the gaps the
// screen puts between Chinese words are closed so no voice pauses inside a phrase.
//   "请 A012 号 到 3 号窗口 办理"  ->  "请 A 0 1 2 号到 3 号窗口办理"
const CJK = "\u3400-\u9fff\uf900-\ufaff";
const NUMBER = /(?<![\p{L}\p{N}_])[A-Z]\d{3,4}(?![\p{L}\p{N}_])/gu;
const GAP = new RegExp(`(?<=[${CJK}]) +(?=[${CJK}])`, "gu");

export function spokenCall(text) {
  return text.replace(NUMBER, (n) => n.split("").join(" ")).replace(GAP, "");
}
