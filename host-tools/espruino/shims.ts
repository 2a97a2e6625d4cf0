/**
 * The ESP32-only modules the Linux build of Espruino lacks (`Wifi`, `ESP32`, the
 * battery ADC pin), as a small JavaScript boot file that the engine writes into
 * Storage as `.boot0`. Espruino runs `.boot0` before `.bootcde` at every start
 * (src/jsflash.c, jsfLoadBootCodeFromFlash), so the app finds them as it would on
 * a board, and, being evaluated from Storage, the shim's function bodies stay in
 * flash too.
 *
 * Each rule follows the ESP32 port of Espruino 2v29 (commit c5ff787b); the file and
 * function are cited beside the code and in docs/espruino.md. The host controls
 * what the shim sees (wake cause, access point, signal, battery) through a plain
 * file `wisp-host.json` in the interpreter's working directory, read with the Linux
 * build's `fs` module at boot: it plays the part of the RTC and the radio.
 *
 * The shim tells the host about things only the host can do (deep sleep) or that
 * a board would show on its radio (Wi-Fi state) with marker lines `<wisp:...>` on
 * the console; the engine removes them from the console it reports.
 */

import { controlLinkCode } from "./interpreter.ts";

/** What the host passes to the shim at each start (file `wisp-host.json`). */
export interface ShimHostState {
  /**
   * Host port of the engine's control link (not a board thing): the shim opens it at
   * boot, before the app, so evaluations never cross the racy console and the link's
   * blocks count in the shim's, not the app's.
   */
  ctl?: number;
  /** ESP32.getWakeupCause(): 0 power-on, 4 timer. */
  wake: number;
  wifi: {
    /** The access point is reachable (else every association fails with NO_AP_FOUND). */
    ap: boolean;
    /** SSID the AP has; "" accepts any. */
    ssid: string;
    /** Password the AP wants; null accepts any. */
    password: string | null;
    /** Association time (board JSON radio.wifiConnectMs). */
    connectMs: number;
    rssi: number;
    ip: string;
  };
  /** The battery ADC pin and the reading analogRead gives for it (0..1), or null. */
  adc: { pin: string; reading: number } | null;
}

export const HOST_STATE_FILE = "wisp-host.json";
export const MARKER_PREFIX = "<wisp:";

/**
 * The shim as Espruino source. Kept small: on a board these modules are native and
 * cost no variables, so the engine measures the shim's own blocks at the end of
 * `.boot0` (marker `<wisp:boot0 N>`) and reports the app's figure without them.
 */
export const SHIM_SOURCE = String.raw`(function(){
function host(){try{return JSON.parse(require("fs").readFileSync("wisp-host.json"));}catch(e){return {};}}
var h=host(), wake=h.wake|0, adc=h.adc;
// A module function runs without this closure's scope: it reads the host state itself.
Modules.addCached("Wifi",function(){
var M=exports, w=(function(){try{return JSON.parse(require("fs").readFileSync("wisp-host.json")).wifi;}catch(e){return {};}})(), MAC="24:0a:c4:00:00:01", sta=false, started=false, retry=0, reason=0, ssid="", pass="", gotIp=null, discCb=null, ip=false, tmr=0;
var NAMES={8:"ASSOC_LEAVE",15:"4WAY_HANDSHAKE_TIMEOUT",200:"BEACON_TIMEOUT",201:"NO_AP_FOUND"};
function rname(r){return NAMES[r]||"Unknown reason";}
function mark(s){print("<wisp:wifi "+s+">");}
function ev(n,d){setTimeout(function(){M.emit(n,d);},0);}
function later(f,ms){tmr=setTimeout(function(){tmr=0;f();},ms);}
function complete(err){var cb=gotIp;gotIp=null;if(typeof cb==="function")setTimeout(function(){cb(err);},0);}
function staDisconnected(r){
  if(--retry>0){attempt();return;}
  sta=false;ip=false;reason=r;
  if(typeof discCb==="function"){var d=discCb;discCb=null;setTimeout(d,0);}
  mark("disconnected "+rname(r));
  ev("disconnected",{ssid:ssid,mac:MAC,reason:""+r,msg:rname(r)});
  if(gotIp)complete(rname(r));
  started=false;
}
function attempt(){
  later(function(){
    if(!w.ap){staDisconnected(201);return;}
    if(w.ssid&&w.ssid!==ssid){staDisconnected(201);return;}
    if(typeof w.password==="string"&&w.password!==pass){staDisconnected(15);return;}
    sta=true;
    ev("associated",{ssid:ssid,mac:MAC,channel:"6"});
    later(function(){
      ip=true;
      complete(null);
      mark("connected "+w.rssi);
      ev("connected",{ip:w.ip,netmask:"255.255.255.0",gw:"192.168.4.1"});
    },20);
  },w.connectMs|0);
}
M.connect=function(s,o,cb){
  if(typeof s!=="string")throw new Error("No SSID provided");
  if(typeof o==="function"){cb=o;o=undefined;}
  if(o!==undefined&&o!==null&&typeof o!=="object")throw new Error("Expecting options object");
  if(cb!==undefined&&typeof cb!=="function")throw new Error("Expecting callback function");
  var p=o?o.password:undefined;
  if(p!==undefined&&typeof p!=="string")throw new Error("Expecting options.password to be a string");
  gotIp=null;discCb=null;ssid=s.substr(0,32);pass=p||"";
  retry=3;
  if(sta){if(tmr)clearTimeout(tmr);tmr=0;staDisconnected(8);}
  else{started=true;if(!tmr)attempt();}
  gotIp=cb||null;
};
M.disconnect=function(cb){
  retry=0;discCb=cb||null;
  if(tmr){clearTimeout(tmr);tmr=0;}
  if(sta||started)staDisconnected(8);
  if(typeof cb==="function")setTimeout(cb,0);
};
M.getStatus=function(cb){
  var r={};
  if(sta){r.station="connected";r.ssid=ssid;r.bssid="ac:84:c6:00:00:01";r.channel=6;r.rssi=w.rssi|0;r.htMode="HT20";r.authMode="wpa2";}
  else r.station=rname(reason);
  r.mode=(sta||started)?"STA":"NULL";
  r.powersave="min_modem";
  if(typeof cb==="function")setTimeout(function(){cb(r);},0);
  return r;
};
M.getDetails=function(cb){
  var r={};
  if(sta){r.ssid=ssid;r.password=pass;r.status="connected";r.authMode="wpa2";}
  else r.status=rname(reason);
  if(typeof cb==="function")setTimeout(function(){cb(r);},0);
  return r;
};
M.getIP=function(cb){
  var r={};
  if(ip){r.ip=w.ip;r.netmask="255.255.255.0";r.gw="192.168.4.1";}
  r.mac=MAC;
  if(typeof cb==="function")setTimeout(function(){cb(null,r);},0);
  return r;
};
M.setHostname=function(){};
M._drop=function(downMs){
  if(!sta)return;
  w.ap=false;
  setTimeout(function(){w.ap=true;},downMs|0);
  staDisconnected(200);
};
});
global.ESP32={
deepSleep:function(us){
  print("<wisp:sleep "+(us|0)+">");
  while(1){}
},
getWakeupCause:function(){return wake;}
};
// process.env.BOARD is "ESP32" on the port (boards/ESP32.py); host tools (wisp flash) check it.
var env=process.env; env.BOARD="ESP32"; process.env=env;
if(adc){var ar=analogRead;global.analogRead=function(p){return (""+p)===adc.pin?adc.reading:ar(p);};}
if(h.ctl){${controlLinkCode("h.ctl")}}
})();
print("<wisp:boot0 "+process.memory().usage+">");
`;
