import { stringify } from 'csv-stringify/sync';

/** One column of a CSV export: its header and how a row fills it. */
export interface CsvColumn<T> {
  readonly header: string;
  readonly cell: (row: T) => string | number | boolean | null;
}

/**
 * Characters that make a spreadsheet read a cell as a formula (=, +, -, @) or that some of them
 * strip before looking (tab, carriage return). OWASP's advice: prefix such a cell with a quote.
 */
const formulaStart = /^[=+\-@\t\r]/;

/** A text cell that a spreadsheet shows as text, never runs as a formula. */
export function inertCell(value: string): string {
  return formulaStart.test(value) ? `'${value}` : value;
}

/** CSV lines (no header) for `rows`; text cells are made inert, numbers and booleans written as they are. */
export function csvLines<T>(columns: readonly CsvColumn<T>[], rows: readonly T[]): string {
  return stringify(
    rows.map((row) =>
      columns.map((column) => {
        const value = column.cell(row);
        return typeof value === 'string' ? inertCell(value) : value === null ? '' : String(value);
      }),
    ),
  );
}

/** The header line for `columns`. */
export function csvHeader<T>(columns: readonly CsvColumn<T>[]): string {
  return stringify([columns.map((c) => c.header)]);
}
