// The user pool's password policy (infra/stacks/data.py): checked before SignUp is sent.

const SYMBOLS = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-";

export const MIN_LENGTH = 12;
export const MAX_LENGTH = 256; // SignUp's own limit

export const RULES = [
  { id: "length", text: `At least ${MIN_LENGTH} characters`, test: (p) => [...p].length >= MIN_LENGTH },
  { id: "upper", text: "An upper-case letter", test: (p) => /\p{Lu}/u.test(p) },
  { id: "lower", text: "A lower-case letter", test: (p) => /\p{Ll}/u.test(p) },
  { id: "digit", text: "A digit", test: (p) => /[0-9]/.test(p) },
  {
    id: "symbol",
    text: "A symbol, such as ! ? # or -",
    // Cognito counts a space between other characters as a symbol too.
    test: (p) => [...p].some((c) => SYMBOLS.includes(c)) || /\S \S/.test(p),
  },
  { id: "edges", text: "No space at the start or end", test: (p) => p === "" || !/^\s|\s$/.test(p) },
];

// The rules a password breaks, by id; empty when it may be sent.
export function unmetRules(password) {
  const unmet = RULES.filter((rule) => !rule.test(password)).map((rule) => rule.id);
  if ([...password].length > MAX_LENGTH) unmet.push("max-length");
  return unmet;
}
