// Chat templates: HF Jinja `tokenizer.chat_template` rendering and its errors.
export { ChatTemplate } from './chat-template';
export type {
  ChatMessage, ChatRole, ChatTextPart, ChatToolCall, ChatTemplateOptions, FromMetadataOptions, RenderOptions,
} from './chat-template';
export { TemplateError } from './errors';
export type { TemplateErrorCode } from './errors';
export { strftime } from './strftime';
