// The `promptflow` package a Python node imports, as a few Python files written into
// Pyodide's file system: `from promptflow.core import tool`, `from promptflow import tool`,
// the connection classes and `promptflow.tracing.trace`. `tool` only marks the function,
// which is how the runner finds the one to call.

export const SHIM_FILES: Record<string, string> = {
  'promptflow/__init__.py': `
from promptflow.core import tool, ToolProvider
from promptflow import connections
__version__ = "0.0.0+tabllm"
`,
  'promptflow/core/__init__.py': `
def tool(func=None, *, name=None, description=None, type=None, input_settings=None,
         streaming_option_parameter=None, **kwargs):
    def mark(f):
        f.__pf_tool__ = True
        return f
    return mark(func) if func is not None else mark


class ToolProvider:
    def __init__(self, *args, **kwargs):
        pass


from promptflow.connections import *  # noqa: E402,F401,F403
`,
  'promptflow/connections/__init__.py': `
class _Connection:
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)

    def __getitem__(self, key):
        return self.__dict__[key]


class OpenAIConnection(_Connection):
    pass


class AzureOpenAIConnection(_Connection):
    pass


class CustomConnection(_Connection):
    def __init__(self, configs=None, secrets=None, **kwargs):
        super().__init__(configs=configs or {}, secrets=secrets or {}, **kwargs)
        self.__dict__.update(self.configs)
        self.__dict__.update(self.secrets)


class CustomStrongTypeConnection(_Connection):
    pass


__all__ = ["OpenAIConnection", "AzureOpenAIConnection", "CustomConnection", "CustomStrongTypeConnection"]
`,
  'promptflow/tracing/__init__.py': `
def trace(func=None, **kwargs):
    return func if func is not None else (lambda f: f)
`,
  'promptflow/tools/__init__.py': '',
};

/**
 * Runs one node's function and answers JSON, so the JS side never holds a Python proxy:
 * `{ok: true, value}` or `{ok: false, kind, type, name, message, lineno}`. Modules are cached
 * by the id the JS side gives each distinct source text.
 */
export const RUNNER_PY = `
import json as _json, random as _random, inspect as _inspect, sys as _sys, time as _time

_tabllm_modules = {}

def _tabllm_error(kind, exc, **extra):
    return _json.dumps({"ok": False, "kind": kind, "type": type(exc).__name__, "message": str(exc),
                        "name": getattr(exc, "name", None), "lineno": getattr(exc, "lineno", None), **extra})

class _TabllmTimeout(BaseException):
    pass

def _tabllm_deadline(seconds):
    # A trace function that raises once the node has run past its time: the interpreter runs
    # on the caller's thread, so nothing outside can stop a Python loop. (A long call into C
    # code is only stopped when it returns.)
    end = _time.monotonic() + seconds
    def tracer(frame, event, arg):
        if _time.monotonic() > end:
            raise _TabllmTimeout("the node ran past %g s" % seconds)
        return tracer
    return tracer

def _tabllm_load(code, ns, flow_dir):
    # The flow folder is importable while the node's module loads; its modules are then
    # dropped from sys.modules, so another flow's utils.py is never taken for this one's.
    if flow_dir is None:
        exec(code, ns)
        return
    before = set(_sys.modules)
    _sys.path.insert(0, flow_dir)
    try:
        exec(code, ns)
    finally:
        _sys.path.remove(flow_dir)
        for name in set(_sys.modules) - before:
            if (getattr(_sys.modules[name], "__file__", None) or "").startswith(flow_dir + "/"):
                del _sys.modules[name]

def _tabllm_call(key, filename, source, function_name, inputs_json, seed, flow_dir=None, timeout_s=None):
    if timeout_s is not None:
        _sys.settrace(_tabllm_deadline(timeout_s))
    try:
        return _tabllm_call_traced(key, filename, source, function_name, inputs_json, seed, flow_dir)
    except _TabllmTimeout as e:
        return _tabllm_error("timeout", e)
    finally:
        _sys.settrace(None)

def _tabllm_call_traced(key, filename, source, function_name, inputs_json, seed, flow_dir):
    ns = _tabllm_modules.get(key)
    if ns is None:
        try:
            code = compile(source, filename, "exec")
        except SyntaxError as e:
            return _tabllm_error("syntax", e)
        ns = {"__name__": "__tabllm_node_%d__" % key, "__file__": filename}
        try:
            _tabllm_load(code, ns, flow_dir)
        except ModuleNotFoundError as e:
            return _tabllm_error("package", e)
        except SyntaxError as e:
            return _tabllm_error("syntax", e)
        except _TabllmTimeout:
            raise
        except BaseException as e:
            return _tabllm_error("load", e)
        _tabllm_modules[key] = ns
    if function_name:
        fn = ns.get(function_name)
        found = [fn] if callable(fn) else []
    else:
        found = [v for v in list(ns.values()) if callable(v) and getattr(v, "__pf_tool__", False)]
    if len(found) != 1:
        return _json.dumps({"ok": False, "kind": "no_tool", "count": len(found)})
    if seed is not None:
        _random.seed(seed)
    try:
        result = found[0](**_json.loads(inputs_json))
        if _inspect.iscoroutine(result):
            result.close()
            return _json.dumps({"ok": False, "kind": "async"})
    except ModuleNotFoundError as e:
        return _tabllm_error("package", e)
    except _TabllmTimeout:
        raise
    except BaseException as e:
        tb = e.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        return _tabllm_error("run", e, lineno=tb.tb_lineno if tb is not None else None)
    try:
        return _json.dumps({"ok": True, "value": result}, default=str, allow_nan=False)
    except (TypeError, ValueError) as e:
        return _tabllm_error("output", e)
`;
