// A lab's own review grid: which key reclassifies to which class, the order of the classes in the legend and the
// class filter, and the classes the lab never uses (hidden from both, no key). Stored in the database (migration
// 0008) and checked here, once, for the settings dialog, the API boundary and the service alike.
import { CELL_CLASS_CODES, CELL_CLASS_DISPLAY_ORDER, CELL_CLASSES, isCellClassCode, type CellClassCode } from './cell-classes';

export interface ReviewLayout {
  /** One key per class: a lower-case letter or a digit. A hidden class's key is ignored and may be ''. */
  keys: Record<CellClassCode, string>;
  /** Every class once, in the order the legend and the class filter list them. */
  order: CellClassCode[];
  /** Classes the lab never uses: not in the legend or the class filter, and no key reclassifies a cell to them. */
  hidden: CellClassCode[];
}

/** The built-in keys: mnemonic where the letters allow (b blast, e eosinophil, l lymphocyte …). */
export const DEFAULT_CLASS_KEYS: Readonly<Record<CellClassCode, string>> = Object.freeze({
  ABE: 'a', // abnormal eosinophil
  ART: 'x', // artefact: x for "reject"
  BAS: 'w', // basophil (b is blast)
  BLA: 'b', // blast
  EBO: 't', // erythroblast
  EOS: 'e', // eosinophil
  FGC: 'f', // faggot cell
  HAC: 'h', // hairy cell
  KSC: 'k', // smudge cell (Kernschatten)
  LYI: 'i', // immature lymphocyte
  LYT: 'l', // lymphocyte
  MMZ: 'z', // metamyelocyte (MMZ)
  MON: 'c', // monocyte (m is myelocyte)
  MYB: 'm', // myelocyte
  NGB: 'd', // band neutrophil
  NGS: 's', // segmented neutrophil
  NIF: 'n', // not identifiable
  OTH: 'o', // other
  PEB: 'r', // proerythroblast
  PLM: 'q', // plasma cell (p is promyelocyte)
  PMO: 'p', // promyelocyte
});

/** Keys that are review commands (enlarge, find a file, next unreviewed of the class): no class may take them. */
export const REVIEW_COMMAND_KEYS = Object.freeze({ enlarge: 'v', find: '/', 'next-of-class': 'u' } as const);

export const DEFAULT_REVIEW_LAYOUT: ReviewLayout = Object.freeze({
  keys: { ...DEFAULT_CLASS_KEYS },
  order: [...CELL_CLASS_DISPLAY_ORDER],
  hidden: [],
}) as ReviewLayout;

const CLASS_KEY = /^[a-z0-9]$/;

/** What is wrong with a layout, naming the field ('keys.BLA', 'order', 'hidden') a form should mark. */
export interface ReviewLayoutProblem {
  field: string;
  message: string;
}

/** The first problem of a layout, or null: every class ordered once, one visible class at least, visible keys distinct. */
export function reviewLayoutProblem(layout: ReviewLayout): ReviewLayoutProblem | null {
  const order = layout.order;
  if (order.length !== CELL_CLASS_CODES.length || new Set(order).size !== order.length || !order.every((code) => isCellClassCode(code))) {
    return { field: 'order', message: `The class order must list each of the ${CELL_CLASS_CODES.length} classes once.` };
  }
  const unknownHidden = layout.hidden.find((code) => !isCellClassCode(code));
  if (unknownHidden !== undefined) return { field: 'hidden', message: `"${String(unknownHidden).slice(0, 20)}" is not a cell class.` };
  const hidden = new Set(layout.hidden);
  if (hidden.size >= CELL_CLASS_CODES.length) return { field: 'hidden', message: 'At least one class must stay in the review.' };
  const owner = new Map<string, CellClassCode>();
  const commands = new Set<string>(Object.values(REVIEW_COMMAND_KEYS));
  for (const code of order) {
    if (hidden.has(code)) continue;
    const key = layout.keys[code];
    const field = `keys.${code}`;
    if (typeof key !== 'string' || !CLASS_KEY.test(key)) {
      return { field, message: `${code} (${CELL_CLASSES[code].name}) needs one key: a lower-case letter or a digit.` };
    }
    if (commands.has(key)) {
      const command = (Object.keys(REVIEW_COMMAND_KEYS) as (keyof typeof REVIEW_COMMAND_KEYS)[]).find((name) => REVIEW_COMMAND_KEYS[name] === key)!;
      return { field, message: `The key ${key} of ${code} is the review's "${COMMAND_NAMES[command]}" key; choose another.` };
    }
    const taken = owner.get(key);
    if (taken !== undefined) return { field, message: `The key ${key} is given to both ${taken} and ${code}; each class needs its own key.` };
    owner.set(key, code);
  }
  return null;
}

const COMMAND_NAMES: Readonly<Record<keyof typeof REVIEW_COMMAND_KEYS, string>> = {
  enlarge: 'enlarge the cell',
  find: 'find a file',
  'next-of-class': 'next unreviewed of the class',
};

/** The classes shown in the legend and the class filter, in the lab's order. */
export function visibleClasses(layout: ReviewLayout): CellClassCode[] {
  const hidden = new Set(layout.hidden);
  return layout.order.filter((code) => !hidden.has(code));
}
