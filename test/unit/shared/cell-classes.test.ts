import { describe, expect, it } from 'vitest';
import {
  BLAST_EQUIVALENT_CODES,
  CELL_CLASSES,
  CELL_CLASS_CODES,
  CELL_CLASS_DISPLAY_ORDER,
  EXCLUDED_FROM_NDC_CODES,
  UnknownCellClassError,
  cellClass,
  classesOnMeSide,
  isCellClassCode,
  type CellClassCode,
} from '../../../src/shared/cell-classes';

describe('cell classes', () => {
  it('lists the 21 Matek 2021 codes in alphabetical order with their English names', () => {
    const names: Record<CellClassCode, string> = {
      ABE: 'abnormal eosinophil',
      ART: 'artefact',
      BAS: 'basophil',
      BLA: 'blast',
      EBO: 'erythroblast',
      EOS: 'eosinophil',
      FGC: 'faggot cell',
      HAC: 'hairy cell',
      KSC: 'smudge cell',
      LYI: 'immature lymphocyte',
      LYT: 'lymphocyte',
      MMZ: 'metamyelocyte',
      MON: 'monocyte',
      MYB: 'myelocyte',
      NGB: 'band neutrophil',
      NGS: 'segmented neutrophil',
      NIF: 'not identifiable',
      OTH: 'other cell',
      PEB: 'proerythroblast',
      PLM: 'plasma cell',
      PMO: 'promyelocyte',
    };
    expect(CELL_CLASS_CODES).toHaveLength(21);
    expect([...CELL_CLASS_CODES]).toEqual([...CELL_CLASS_CODES].sort());
    for (const code of CELL_CLASS_CODES) {
      expect(CELL_CLASSES[code].code).toBe(code);
      expect(CELL_CLASSES[code].name).toBe(names[code]);
    }
  });

  it('excludes artefacts, not-identifiable and smudge cells from the nucleated differential (ICSH 2008)', () => {
    expect([...EXCLUDED_FROM_NDC_CODES].sort()).toEqual(['ART', 'KSC', 'NIF']);
  });

  it('counts "other" cells in the differential but flags them', () => {
    expect(CELL_CLASSES.OTH.inNucleatedDifferential).toBe(true);
    expect(CELL_CLASS_CODES.filter((code) => CELL_CLASSES[code].flaggedWhenCounted)).toEqual(['OTH']);
  });

  it('puts blasts, granulocytes, their precursors and monocytes on the myeloid side', () => {
    expect(classesOnMeSide('myeloid').sort()).toEqual(['ABE', 'BAS', 'BLA', 'EOS', 'FGC', 'MMZ', 'MON', 'MYB', 'NGB', 'NGS', 'PMO'].sort());
    expect(classesOnMeSide('erythroid').sort()).toEqual(['EBO', 'PEB']);
    expect(CELL_CLASSES.BLA.meSide).toBe('myeloid');
    for (const code of ['LYT', 'LYI', 'HAC', 'PLM', 'OTH', 'ART', 'NIF', 'KSC'] as const) {
      expect(CELL_CLASSES[code].meSide).toBeNull();
    }
  });

  it('counts blasts and faggot cells as blast equivalents', () => {
    expect([...BLAST_EQUIVALENT_CODES]).toEqual(['BLA', 'FGC']);
  });

  it('assigns lineages: hairy cells and immature lymphocytes lymphoid, plasma cells their own', () => {
    expect(CELL_CLASSES.HAC.lineage).toBe('lymphoid');
    expect(CELL_CLASSES.LYI.lineage).toBe('lymphoid');
    expect(CELL_CLASSES.PLM.lineage).toBe('plasma');
    expect(CELL_CLASSES.ABE.lineage).toBe('granulocytic');
    expect(CELL_CLASSES.FGC.lineage).toBe('granulocytic');
    expect(CELL_CLASSES.BLA.lineage).toBe('blast');
    expect(CELL_CLASSES.MON.lineage).toBe('monocytic');
    expect(CELL_CLASSES.PEB.lineage).toBe('erythroid');
  });

  it('has a display order holding each code exactly once, blasts first and excluded classes last', () => {
    expect([...CELL_CLASS_DISPLAY_ORDER].sort()).toEqual([...CELL_CLASS_CODES]);
    expect(CELL_CLASS_DISPLAY_ORDER[0]).toBe('BLA');
    expect(CELL_CLASS_DISPLAY_ORDER.slice(-3)).toEqual(['ART', 'NIF', 'KSC']);
  });

  it('recognises cell class codes and nothing else', () => {
    expect(isCellClassCode('BLA')).toBe(true);
    expect(isCellClassCode('bla')).toBe(false);
    expect(isCellClassCode('XYZ')).toBe(false);
    expect(isCellClassCode(3)).toBe(false);
    expect(isCellClassCode(null)).toBe(false);
    expect(isCellClassCode('toString')).toBe(false);
  });

  it('looks a class up by code and names an unknown code in the error', () => {
    expect(cellClass('PMO').name).toBe('promyelocyte');
    expect(() => cellClass('XYZ' as CellClassCode)).toThrow(UnknownCellClassError);
    expect(() => cellClass('XYZ' as CellClassCode)).toThrow(/"XYZ"/);
  });

  it('cannot be modified at run time', () => {
    expect(Object.isFrozen(CELL_CLASSES)).toBe(true);
    expect(Object.isFrozen(CELL_CLASSES.BLA)).toBe(true);
  });
});
