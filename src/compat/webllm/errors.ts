// Errors of the WebLLM compatibility layer, named (and mostly worded) like the classes of
// `@mlc-ai/web-llm`'s error.ts, so apps that branch on `err.name` keep working. WebLLM does
// not export its error classes from the package root, so `instanceof` against WebLLM's own
// classes never worked for apps; these are our own classes, each with a string `code` as
// every tabllm error has. Things tabllm cannot do throw `UnsupportedFieldsError` (a request
// or config field) or `UnsupportedFeatureError` (a whole method), never a silent no-op.

export type WebLLMErrorCode =
  | 'model_not_found'
  | 'engine_not_loaded'
  | 'invalid_request'
  | 'unsupported_parameter'
  | 'unsupported'
  | 'context_length_exceeded'
  | 'device_lost'
  | 'webgpu_not_available';

export class WebLLMCompatError extends Error {
  constructor(
    readonly code: WebLLMErrorCode,
    name: string,
    message: string,
  ) {
    super(message);
    this.name = name;
  }
}

export class ModelNotFoundError extends WebLLMCompatError {
  constructor(modelId: string, mappedIds: readonly string[]) {
    super(
      'model_not_found',
      'ModelNotFoundError',
      `Cannot find model record in appConfig for ${modelId}, and it is not one of WebLLM's prebuilt ids that ` +
        `tabllm maps to a GGUF build. Add a model_list record whose \`model\` is a GGUF URL, or use one of: ${mappedIds.join(', ')}`,
    );
  }
}

export class ModelNotLoadedError extends WebLLMCompatError {
  constructor(requestName: string) {
    super(
      'engine_not_loaded',
      'ModelNotLoadedError',
      `Model not loaded before trying to complete ${requestName}. Please ensure you have called MLCEngine.reload(model) ` +
        'to load the model before initiating APIs, or initialize your engine using CreateMLCEngine() with a valid model configuration.',
    );
  }
}

export class SpecifiedModelNotFoundError extends WebLLMCompatError {
  constructor(loadedModels: string[], requestedModelId: string, requestName: string) {
    super(
      'model_not_found',
      'SpecifiedModelNotFoundError',
      `Specified model ${requestedModelId} for ${requestName} is not found in loaded models. Currently loaded models are:\n${loadedModels}`,
    );
  }
}

export class UnclearModelToUseError extends WebLLMCompatError {
  constructor(loadedModels: string[], requestName: string) {
    super('invalid_request', 'UnclearModelToUseError', `Multiple models are loaded in engine. Please specify the model in ${requestName}.\nCurrently loaded models are:\n${loadedModels}`);
  }
}

export class ReloadArgumentSizeUnmatchedError extends WebLLMCompatError {
  constructor(numModelId: number, numChatOpts: number) {
    super('invalid_request', 'ReloadArgumentSizeUnmatchedError', `Expect chatOpts, if specified, to match the size of modelId. However, got ${numModelId} modelId, but ${numChatOpts} chatOpts.`);
  }
}

export class ReloadModelIdNotUniqueError extends WebLLMCompatError {
  constructor(modelId: string[]) {
    super('invalid_request', 'ReloadModelIdNotUniqueError', `Need to make models in modelId passed to reload() need to be unique. If you want to, load copies of the same model, consider making copies of the ModelRecord with different model_id. Received modelId: ${modelId}`);
  }
}

/** A field tabllm cannot honour (tools, json response_format, a conv_template override, …). */
export class UnsupportedFieldsError extends WebLLMCompatError {
  constructor(
    readonly fields: string[],
    targetClass: string,
  ) {
    super('unsupported_parameter', 'UnsupportedFieldsError', `The following fields in ${targetClass} are not supported by tabllm: \n${fields.join(', ')}`);
  }
}

/** A whole WebLLM method that tabllm's engine has no equivalent for. */
export class UnsupportedFeatureError extends WebLLMCompatError {
  constructor(
    readonly feature: string,
    why: string,
  ) {
    super('unsupported', 'UnsupportedFeatureError', `${feature} is not supported by tabllm's WebLLM compatibility layer: ${why}`);
  }
}

function configError(name: string, message: string): WebLLMCompatError {
  return new WebLLMCompatError('invalid_request', name, message);
}

// The request checks WebLLM runs before generating (its postInitAndCheckFields and
// postInitAndCheckGenerationConfigValues), with WebLLM's class names and messages.
export const requestErrors = {
  minValue: (param: string, min: number) => configError('MinValueError', `Make sure \`${param}\` > ${min}.`),
  range: (param: string, min: number, max: number, extra = '') =>
    configError('RangeError', `Make sure ${param} is in range [${min}, ${max}].${extra ? ' ' + extra : ''}`),
  nonNegative: (param: string) => configError('NonNegativeError', `Make sure ${param} >= 0.`),
  numberString: (param: string, actual: string) => configError('InvalidNumberStringError', `Make sure ${param} to be number represented in string. Got ${actual}`),
  dependency: (dependent: string, required: string, value: unknown) => configError('DependencyError', `${dependent} requires ${required} to be ${value}.`),
  streamingCount: () => configError('StreamingCountError', 'When streaming, `n` cannot be > 1.'),
  seedType: (seed: unknown) => configError('SeedTypeError', '`seed` should be an integer, but got ' + seed),
  streamOptions: () => configError('InvalidStreamOptionsError', 'Only specify stream_options when stream=True.'),
  messageOrder: (message: string) => configError('MessageOrderError', message),
  systemMessageOrder: () => configError('SystemMessageOrderError', 'System prompt should always be the first message in `messages`.'),
  unsupportedRole: (role: string) => configError('UnsupportedRoleError', `Unsupported role of message: ${role}`),
  contentType: (name: string) => configError('ContentTypeError', `${name} should have string content.`),
  nonVLMContent: (modelId: string, content: unknown) =>
    configError('UserMessageContentErrorForNonVLM', `tabllm runs text-only models: user message content must be a string or text parts, but received: ${JSON.stringify(content)}\nLoaded modelId: ${modelId}`),
  // WebLLM's response_format rules (its postInitAndCheckFields, step 6).
  responseFormatSchema: () => configError('InvalidResponseFormatError', 'JSON schema is only supported with `json_object` response format.'),
  responseFormatGrammar: () =>
    configError('InvalidResponseFormatGrammarError', 'When ResponseFormat.type is `grammar`, ResponseFormat.grammar needs to be specified.\nWhen ResponseFormat.grammar is specified, ResponseFormat.type needs to be grammar.'),
  responseFormatStructuralTag: () =>
    configError('InvalidResponseFormatStructuralTagError', 'When ResponseFormat.type is `structural_tag`, ResponseFormat.structural_tag needs to be specified.\nWhen ResponseFormat.structural_tag is specified, ResponseFormat.type needs to be structural_tag.'),
};

export class ContextWindowSizeExceededError extends WebLLMCompatError {
  constructor(detail: string) {
    super('context_length_exceeded', 'ContextWindowSizeExceededError', `Prompt tokens exceed context window size: ${detail}\nConsider shortening the prompt, or increase \`context_window_size\`.`);
  }
}

export class DeviceLostError extends WebLLMCompatError {
  constructor() {
    super('device_lost', 'DeviceLostError', 'The WebGPU device was lost. This issue often occurs due to running out of memory (OOM). Try reloading with a model that has fewer parameters or a smaller context length.');
  }
}

export class WebGPUNotAvailableError extends WebLLMCompatError {
  constructor() {
    super('webgpu_not_available', 'WebGPUNotAvailableError', 'WebGPU is not supported in your current environment, but it is necessary to run the engine. Please make sure that your browser supports WebGPU and that it is enabled.');
  }
}
