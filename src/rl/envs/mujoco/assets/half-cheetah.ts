// HalfCheetah (Gymnasium HalfCheetah-v5's model), written for fimkit from the documented facts:
// a 1 m torso capsule with a head, back and front legs of three hinged segments each (thigh,
// shin, foot) with per-joint stiffness, damping and limits, six motors (gears 120, 90, 60, 120,
// 60, 30), Euler at 10 ms, total mass rescaled to 14 kg. Segment capsules are placed by centre
// and a rotation about y (radians). Body frames sit at the joints, as in the published model.
export const HALF_CHEETAH_XML = `
<mujoco model="fimkit-half-cheetah">
  <compiler angle="radian" inertiafromgeom="true" settotalmass="14"/>
  <option timestep="0.01" gravity="0 0 -9.81"/>
  <default>
    <joint limited="true" armature="0.1" damping="0.01" stiffness="8" solreflimit="0.02 1" solimplimit="0 0.8 0.03"/>
    <geom contype="1" conaffinity="0" condim="3" friction="0.4 0.1 0.1" solref="0.02 1" solimp="0 0.8 0.01"/>
    <motor ctrllimited="true" ctrlrange="-1 1"/>
    <default class="root">
      <joint limited="false" armature="0" damping="0" stiffness="0"/>
    </default>
  </default>
  <worldbody>
    <geom name="floor" type="plane" size="40 40 40" conaffinity="1" condim="3"/>
    <body name="torso" pos="0 0 0.7">
      <joint name="rootx" class="root" type="slide" axis="1 0 0"/>
      <joint name="rootz" class="root" type="slide" axis="0 0 1"/>
      <joint name="rooty" class="root" type="hinge" axis="0 1 0"/>
      <geom name="torso" type="capsule" fromto="-0.5 0 0 0.5 0 0" size="0.046"/>
      <geom name="head" type="capsule" pos="0.6 0 0.1" euler="0 0.87 0" size="0.046 0.15"/>
      <body name="bthigh" pos="-0.5 0 0">
        <joint name="bthigh" type="hinge" axis="0 1 0" range="-0.52 1.05" stiffness="240" damping="6"/>
        <geom name="bthigh" type="capsule" pos="0.1 0 -0.13" euler="0 -3.8 0" size="0.046 0.145"/>
        <body name="bshin" pos="0.16 0 -0.25">
          <joint name="bshin" type="hinge" axis="0 1 0" range="-0.785 0.785" stiffness="180" damping="4.5"/>
          <geom name="bshin" type="capsule" pos="-0.14 0 -0.07" euler="0 -2.03 0" size="0.046 0.15"/>
          <body name="bfoot" pos="-0.28 0 -0.14">
            <joint name="bfoot" type="hinge" axis="0 1 0" range="-0.4 0.785" stiffness="120" damping="3"/>
            <geom name="bfoot" type="capsule" pos="0.03 0 -0.097" euler="0 -0.27 0" size="0.046 0.094"/>
          </body>
        </body>
      </body>
      <body name="fthigh" pos="0.5 0 0">
        <joint name="fthigh" type="hinge" axis="0 1 0" range="-1 0.7" stiffness="180" damping="4.5"/>
        <geom name="fthigh" type="capsule" pos="-0.07 0 -0.12" euler="0 0.52 0" size="0.046 0.133"/>
        <body name="fshin" pos="-0.14 0 -0.24">
          <joint name="fshin" type="hinge" axis="0 1 0" range="-1.2 0.87" stiffness="120" damping="3"/>
          <geom name="fshin" type="capsule" pos="0.065 0 -0.09" euler="0 -0.6 0" size="0.046 0.106"/>
          <body name="ffoot" pos="0.13 0 -0.18">
            <joint name="ffoot" type="hinge" axis="0 1 0" range="-0.5 0.5" stiffness="60" damping="1.5"/>
            <geom name="ffoot" type="capsule" pos="0.045 0 -0.07" euler="0 -0.6 0" size="0.046 0.07"/>
          </body>
        </body>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor name="bthigh" joint="bthigh" gear="120"/>
    <motor name="bshin" joint="bshin" gear="90"/>
    <motor name="bfoot" joint="bfoot" gear="60"/>
    <motor name="fthigh" joint="fthigh" gear="120"/>
    <motor name="fshin" joint="fshin" gear="60"/>
    <motor name="ffoot" joint="ffoot" gear="30"/>
  </actuator>
</mujoco>
`;
