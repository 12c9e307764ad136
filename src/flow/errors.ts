// FlowError: every way a flow, a prompty file, a data file or a node run can fail, as one
// error class with a `code`, the file and the node it concerns (and the batch line, when a
// line failed). The CLI prints `message [code]`; batch runs record it per line.

export type FlowErrorCode =
  /** The flow folder has no flow.dag.yaml / the .prompty asked for, or a node's source file is absent. */
  | 'flow_file_missing'
  | 'source_file_missing'
  /** A picked folder, File list or URL flow over the file-count or file-size bound (files.ts). */
  | 'flow_too_large'
  /** YAML that does not parse, is over the size bound, or nests past the depth bound. */
  | 'yaml_syntax'
  | 'yaml_too_large'
  | 'yaml_too_deep'
  /** The YAML parses but is not a flow: nodes not a list, a node without a name, a duplicate name… */
  | 'bad_flow'
  | 'unknown_node_type'
  /** `${…}` that is not `${inputs.x}` / `${node.output[.field]}`. */
  | 'bad_reference'
  /** A reference to an input or node the flow does not have (in inputs, activate or outputs). */
  | 'missing_reference'
  | 'cycle'
  /** A required flow input not given (no default), or one that does not convert to its type. */
  | 'missing_input'
  | 'bad_input_type'
  /** Jinja2 that does not parse or render. */
  | 'template_error'
  /** A chat prompt that does not follow the role-marker format (text before the first role…). */
  | 'bad_chat_prompt'
  | 'bad_llm_parameter'
  /** The model endpoint answered an error or an unreadable body. */
  | 'llm_request_failed'
  | 'python_syntax_error'
  | 'python_package_missing'
  | 'python_tool_not_found'
  | 'python_node_failed'
  /** A Python node ran past its time limit (`pythonTimeoutMs`). */
  | 'python_timeout'
  /** Pyodide could not be loaded (not installed, or no way to reach its files). */
  | 'python_unavailable'
  /**
   * In a page: no Pyodide where the worker looks — the published worker (Pyodide bundled in,
   * its data files not) was given no `pyodideIndexUrl`, or the URL given serves no Pyodide.
   */
  | 'pyodide_not_found'
  | 'bad_column_mapping'
  | 'data_column_missing'
  /** A data line that is not a JSON object, or data over the bounds. */
  | 'bad_data';

export interface FlowErrorWhere {
  /** The file (relative to the flow folder) the error concerns. */
  file?: string;
  node?: string;
  /** The batch line (0-based, PromptFlow's `line_number`). */
  lineNumber?: number;
}

export class FlowError extends Error {
  override readonly name = 'FlowError';
  readonly file?: string;
  readonly node?: string;
  readonly lineNumber?: number;
  /** The message without its location prefix. */
  readonly detail: string;

  constructor(
    readonly code: FlowErrorCode,
    message: string,
    where: FlowErrorWhere = {},
  ) {
    const at = [where.file, where.node === undefined ? undefined : `node '${where.node}'`].filter(Boolean).join(', ');
    super(at ? `${at}: ${message}` : message);
    this.detail = message;
    this.file = where.file;
    this.node = where.node;
    this.lineNumber = where.lineNumber;
  }

  /** The same error, located further (the first location given wins). */
  at(where: FlowErrorWhere): FlowError {
    const merged = { file: this.file ?? where.file, node: this.node ?? where.node, lineNumber: this.lineNumber ?? where.lineNumber };
    if (merged.file === this.file && merged.node === this.node && merged.lineNumber === this.lineNumber) return this;
    return new FlowError(this.code, this.detail, merged);
  }
}

/** The JSON shape a failed line or a failed `flow test` reports. */
export function flowErrorJson(err: unknown): { code: string; message: string; file?: string; node?: string } {
  if (err instanceof FlowError) return { code: err.code, message: err.message, file: err.file, node: err.node };
  const e = err as { code?: unknown; message?: unknown };
  return { code: typeof e?.code === 'string' ? e.code : 'internal_error', message: String(e?.message ?? err) };
}
